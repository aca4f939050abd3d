from asm import create_app

app = create_app()
