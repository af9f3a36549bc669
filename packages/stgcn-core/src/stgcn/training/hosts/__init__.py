"""The hosts of a multi-host run: who has arrived at the rendezvous, and who vanished.

``roll_call`` runs before torch's rendezvous, on the same endpoint, so that a host
waiting for the others says who is present and who is awaited instead of waiting in
silence; ``lost_host_line`` turns a survivor's broken connection into one line naming
the host that went away.
"""
