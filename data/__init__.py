"""Turn raw lyric collections into lyrics.txt: one song per line, lines joined by "/".

`python -m data prepare SOURCE... --out PATH` reads folders, .zip archives,
.txt/.lrc/.krc and .json/.jsonl files (`data.prepare.prepare_corpus` in code).
`python -m data fetch-default --dest DIR` fetches the default corpus, the
Song-dynasty ci of the chinese-poetry npm package. The cleaning rules are
listed in `data.clean`, and the song boundary marks in `data.parse`.
"""
