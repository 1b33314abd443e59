"""The steps of the SQL engine: each takes the caller's transaction (a :class:`~..txn.Txn`,
or a bare connection for those that need no time), loads the few keys it reads, applies the
:mod:`zerog.lifecycle` or :mod:`zerog.flow` function the memory backend applies, and writes
back only what changed. :class:`~..backend.SqlBackend` runs each in a transaction of its own;
the beanstalk record store runs them inside its own, beside its entry bookkeeping.
"""
