"""Review state without Qt: the pair list, the selected pair and its live score."""
