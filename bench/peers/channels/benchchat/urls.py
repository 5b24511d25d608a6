# No HTTP pages: the peer only serves the WebSocket route in chat/routing.py.
urlpatterns = []
