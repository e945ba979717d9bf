"""The portal's signed, hash-chained ledger: entry format, Merkle tree, signed notes,
checkpoints, appender and verifiers. It knows nothing of cases, HTTP or templates."""
