"""paperdigest: turn saved Hugging Face Daily Papers pages into a static, searchable archive.

The build is a straight pipeline, one module per stage:
parse (text -> Dump) -> catalog (Dumps -> Catalog of Paper/Digest) -> render (Catalog -> pages)
-> search (Catalog -> lunr index) -> write (files -> output directory, transactionally).
`build.py` runs the stages in order; `cli.py` is the command line around it.
"""

__version__ = "0.1.0"
