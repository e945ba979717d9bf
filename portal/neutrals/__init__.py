"""What mediators and arbitrators share: the invitation to a case, written once.

A neutral is invited by a link; they read the case's summary, disclose anything that could
make a party doubt them (signing it with their password) and accept, or decline. What
follows differs (a mediator's disclosure opens an objection window; an arbitrator sits at
once and may be challenged), so each area keeps its own steps and asks this one for the
parts that are the same: the disclosure (`disclosure`) and the page (`pages`).
"""
