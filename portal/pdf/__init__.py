"""Settlement agreements, awards and case files as PDF/A documents.

A PDF starts as a Jinja template under `templates/pdf/`, rendered to HTML in the
portal's own process and language like any page; WeasyPrint then lays it out in a
child process of its own (`portal.pdf.worker`), so that a heavy document costs the
server neither its event loop nor its memory, and can be stopped when it runs away.
"""
