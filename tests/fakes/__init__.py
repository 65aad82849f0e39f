"""Strict fakes of what cannot run here (flyctl's agent, Fly's Machines API, Fly's web API with its logs
and organizations endpoints), each written from flyctl's and fly-go's own code, named in its docstring:
they refuse what the real thing refuses, with its words. Tests import them from here only."""
