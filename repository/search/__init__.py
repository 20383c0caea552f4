"""Search over every element of the bibliographic description and the full text (issue in progress).

``fold`` is the one normalisation used at index and at query time, so that a query in either
Uzbek script, with any apostrophe, finds a record written in the other.
"""
