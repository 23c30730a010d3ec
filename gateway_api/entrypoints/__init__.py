"""What the gateway API's two worker processes run: the results consumer (its batch handlers, their
decoding, the oldest-pending monitor) and the webhook dispatcher (its delivery loop and sender threads).
``gateway_api.bootstrap`` builds them; ``gateway_api.results`` and ``gateway_api.webhooks`` start them."""
