"""Otter's own ``otter grade`` on a real Docker engine, on a machine without GitHub or conda-forge.

``engine``: Debian's Docker engine and the buildx plugin Otter builds with; ``base_image``: the
base image made offline from Debian's archive, with stand-ins (``standins/``) for setup.sh's
downloads; ``layout``: the ``/autograder`` tree Otter's grade Dockerfile makes, without Docker;
``otter_grade``: the TA's command (runs ``otter grade``, then checks its grade sheet);
``gradescope``: the zip graded in a container laid out as Gradescope does.
"""
