"""Training and evaluation of newsetl's learned parts (never imported at run time)."""
