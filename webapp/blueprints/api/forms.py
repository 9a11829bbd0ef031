"""The API takes JSON and multipart bodies checked in its services, not HTML forms."""
