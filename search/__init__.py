"""Meaning: text processing, embeddings, vector and lexical index, matching (see issue 4)."""
