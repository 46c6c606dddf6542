"""The channels: one package per channel (`telegram`, `sms`, `email`) and the demo's stand-in,
each behind the interfaces of `base`."""
