"""``stgcn serve``: a model behind HTTP (Starlette on uvicorn), answering as
``stgcn predict --json`` does, with concurrent requests batched for the model."""
