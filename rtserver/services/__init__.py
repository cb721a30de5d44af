"""Use cases: each service takes its collaborators in __init__ and raises AppError subclasses."""
