"""Who said each word: stereo channels, voice prints, mono split, enrolled reps."""
