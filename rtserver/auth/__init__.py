"""Authentication primitives: password hashing, tokens, login throttling (all via pynacl)."""
