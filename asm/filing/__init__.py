"""The filing core: one plan of what to write, one set of rules, two writers. See asm/filing/core.py."""
