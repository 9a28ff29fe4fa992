"""Wording clusters, descriptors (benefits), statistics, evidence, the leaderboard."""
