"""Empty on purpose: the authority pages' URLs are folded into `delegation.urls`.

Kept only while the root URLconf still includes `delegation.authority_urls`; delete this module
together with that include.
"""

urlpatterns: list = []
