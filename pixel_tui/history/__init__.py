"""The cycle history: the aggregator, the SQLite store, the importer and the recorder the pipeline calls.

`model` holds the `Cycle` record and its JSON form; `aggregate` turns samples into cycles; `store`
keeps them, own and imported, in SQLite (`tables`: the file's format and its migrations; `failures`: why
it cannot, in words);
`importer` reads JSON-lines files of cycles (`records`: fields and plain records, `orchestrator_log`: the
orchestrator's audit log); `recorder` is the one object the collection pipeline talks to; `output`
prints the `history` command's table, JSON and CSV. None of it imports Textual.
"""
