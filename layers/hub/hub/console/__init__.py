"""The operator console's JSON API (docs/console.md): auth, views over the layer's own queries,
replay jobs and DLQ tools. Each module calls existing layer functions; none re-implements a query."""
