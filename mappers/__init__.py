"""Mapping data model, mapspaces, search and the back-end mappers (spatial, fpga, phone)."""
