"""The finance team's room: versioned negotiation policies (their tables in ``models``, storage
in ``store``, resolution and caching for the engine in ``policies``) and portfolio simulations
on pandas or Dask (``simulations``), with their routes (``routes``). Every offer cites the exact
policy version it was made under.
"""
