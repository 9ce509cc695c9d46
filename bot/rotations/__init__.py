"""Fair on-call rotations.

`domain/` holds the rules (config, shift grid, burden, planners, explanations, iCal, the `/oncall` grammar);
`service.py` the use cases behind `/oncall` and the CLI; `handoff.py` shift handoffs; `messages.py` the Block Kit;
`routes.py` the iCal feed edge; `cli.py` the `firewatch schedule` edge.
"""
