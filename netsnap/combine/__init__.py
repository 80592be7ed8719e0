"""The combine stage: facts computed once per host and per snapshot from the parsed model.

Layers: bundle -> sources -> parsers -> model -> **combine** -> graph/trace -> rules -> findings ->
renderers. Rules, the trace, the report's topology and the diff read these facts; none re-derives them.
"""
