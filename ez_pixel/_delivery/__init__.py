"""Getting bodies to the server: queue and thread, flood gate, sender (retry, spool), transport."""
