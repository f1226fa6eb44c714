"""The reviewer workbench: server-rendered pages, their templates, stylesheet and message catalogues."""
