"""chatbot_interface: built in a later issue; see ../shared/ARCHITECTURE.md."""
