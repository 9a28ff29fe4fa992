"""The inbox: recordings found and decoded, speech to timed words, transcript files, outcomes."""
