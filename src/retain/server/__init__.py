"""What the web dashboard and the REST API share, below both faces: settings, the runtime, request dependencies,
the error shape and body limits; ``retain.server.app`` composes the two faces into one application.

Neither face imports the other: ``retain.web`` and ``retain.api`` import from here, and only
:mod:`retain.server.app` imports them (to mount the API under the dashboard).
"""
