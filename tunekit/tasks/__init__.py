"""The two tasks: token classification (ner) and sequence classification (glue)."""
