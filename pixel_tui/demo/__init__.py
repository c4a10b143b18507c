"""The demo: the real console on a simulated host and engine that replay the swap crisis of the operator's report.

`world` is the simulation; `source` gives the real collector its host, engine, ledger and lock;
`backends` give the real executor its engine, files and host. Nothing here touches this machine.
"""
