"""Shared PDF building blocks (fonts, page setup, styles). Pure reportlab: no Flask import."""
