"""Test and benchmark tooling: synthetic bureau data (synth) and the LP oracle of the assignment (oracle).

May use core, graph, etl and matching. Production packages never import it (the one exception:
`flask sample` in cli/ imports devtools.synth inside the command).
"""
