"""Rep turns into pitch phrases, their kinds and embeddings, the prospect's reactions, leads, redaction."""
