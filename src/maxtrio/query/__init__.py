"""maxtrio.query — the filter language, ``--order-by`` and ``--fields`` parsing, lowering."""
