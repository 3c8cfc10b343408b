"""Turn raw lyric collections into lyrics.txt: one song per line, lines joined by "/"."""
