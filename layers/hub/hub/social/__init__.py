"""Social networks: publishing (SocialPublishWorkflow), the manual queue and insights syncs.

The networks are provider packages (``linkedin``, ``instagram``, ``facebook``, ``youtube``)
implementing the ``SocialPublisher`` and ``SocialInsights`` ports; docs/social.md.
"""
