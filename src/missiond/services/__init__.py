"""Application services: load, call the core, persist, emit. One module per capability."""
