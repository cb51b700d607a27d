"""How settings are named, written and read: labels, flags and variables; the text settings that stand for
several switches; coercion; keys of earlier versions; the expert tunables."""
