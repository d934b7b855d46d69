"""A real SMTP server (aiosmtpd) with a recipient policy, for tests of how Parley treats refusals.

Recipients starting with "bounce" get 550 (mailbox unavailable: a hard bounce), with "busy" 451
(try again later); everyone else is accepted. Prints "READY" once listening on the given port.
"""
import sys
import time

from aiosmtpd.controller import Controller


class Policy:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Accepted"


controller = Controller(Policy(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("READY", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
