"""The segment explorer (Streamlit, `make app`) and the HTTP scoring service (FastAPI, `make serve`).

Both are thin layers: they read what `kedro run` saved through the Kedro Data Catalog of an
environment (`outputs.RunOutputs`) and score new customers with the registered scoring pipeline's own
nodes and the saved `segment_model` (`outputs.score_table`). Neither holds a model or a rule of its own.
"""
