"""Usage and cost per org for every provider (docs/integrations.md, "Usage and cost").

``meter`` counts each logical provider call in the base client's guarded path; ``prices``
holds what billed calls cost (configuration with documented defaults); ``report`` builds the
provider lines of UsageReport.
"""
