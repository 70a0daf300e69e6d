"""The segment explorer (Streamlit, `make app`) and the HTTP scoring service (FastAPI, `make serve`:
`service.py` starts it, `server.py` holds its settings and HTTP protocol, `api.py` is the app).

Both are thin layers: they read what `kedro run` saved through the Kedro Data Catalog of an
environment (`outputs.RunOutputs`) and score new customers with the registered scoring pipeline's own
nodes and the saved `segment_model` (`RunOutputs.score`). Neither holds a model or a rule of its own.
"""
