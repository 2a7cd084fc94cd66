"""The urgent-risk triage against how children say they are in danger, and what must not set it off.

The choice the phrase list makes: a false alarm costs a guardian a look, a miss can cost a child.
So the corpus has three parts: what children in danger write (every one flagged), ordinary
sentences that only look like danger (none flagged), and idioms flagged on purpose because the
same words are also a threat (a guardian reads them and moves on).
"""
from __future__ import annotations

import pytest

from whistle_uk_childrens_complaints import RISK_PHRASES, signals_immediate_risk

SAID_BY_CHILDREN_IN_DANGER = [
    # threats and violence
    "He said he will kill me if I tell anyone.",
    "my stepdad says hes gonna kill me",
    "I get hit at home when I do something wrong.",
    "I get beaten with a belt.",
    "i got battered by my dad last night",
    "she slaps me when she's drunk",
    "he grabs me by the neck and chokes me",
    "dad hits mum and i hide upstairs",
    "They beat me up after school every day.",
    "He threatened to hurt my little sister.",
    # danger and fear
    "I am in danger at home.",
    "im scared of him",
    "I'm too frightened to go home tonight.",
    "they lock me in my room",
    # suicide and self-harm
    "I want to kill my self.",
    "I wanna die.",
    "i just wanna kms",
    "i want to unalive myself",
    "I wish I was dead.",
    "i dont want to live anymore",
    "Everyone would be better off without me.",
    "I'm going to take my own life.",
    "I have been cutting myself.",
    "i self-harm when it gets bad",
    # sexual abuse in a child's words
    "He touched my private parts.",
    "He makes me touch him.",
    "he touches my privates when mum is out",
    "my uncle gets into my bed at night",
    "He kisses me and says it's our little secret.",
    "he keeps asking me for nudes",
    # neglect, running away, weapons
    "There is no food at home and mum doesn't feed us.",
    "I got kicked out and I have nowhere to sleep.",
    "I ran away from home last night.",
    "A boy brought a knife to school.",
    "I don’t feel safe at my foster home.",
]

ORDINARY_SENTENCES = [
    "I'm dying to go on the trip.",
    "The PE teacher hit the ball over the fence.",
    "The youth club is in danger of closing.",
    "We learned about endangered animals.",
    "The food at the home is not nice and nobody listens.",
    "I want more football and a later bedtime.",
    "The staff were soon disabused of that idea.",
    "In scouts we tied the knot safely.",
    "Please keep my room safe from my brother's mess.",
    "It was a hit, merry Christmas.",
    "The Wi-Fi in the lounge keeps dropping out.",
    "The toilets are always locked at break.",
    "He touched the ball with his hand, so it was a penalty.",
    "I would love a later curfew at weekends.",
]

FLAGGED_ON_PURPOSE = [
    "My mum will kill me if I lose my phone again.",  # also how a real threat is put
    "My brother always beats me at FIFA.",  # "beats me" is how children say they are beaten
    "We got beaten 3-0 on Saturday.",
    "I just want to be left alone at break.",  # "left alone" at night is neglect
]


@pytest.mark.parametrize("words", SAID_BY_CHILDREN_IN_DANGER)
def test_a_child_saying_they_are_in_danger_is_flagged(words):
    assert signals_immediate_risk(words), f"not flagged urgent: {words!r}"


@pytest.mark.parametrize("words", ORDINARY_SENTENCES)
def test_an_ordinary_sentence_is_left_alone(words):
    assert not signals_immediate_risk(words), f"flagged urgent: {words!r}"


@pytest.mark.parametrize("words", FLAGGED_ON_PURPOSE)
def test_an_idiom_that_is_also_a_threat_is_flagged_on_purpose(words):
    assert signals_immediate_risk(words)


@pytest.mark.parametrize("phrase", RISK_PHRASES)
def test_every_spelling_a_phrase_allows_is_flagged(phrase):
    slots = [word.split("|") for word in phrase.split()]
    for position in range(max(len(choices) for choices in slots)):
        words = " ".join(choices[min(position, len(choices) - 1)] for choices in slots)
        assert signals_immediate_risk(f"Please help, {words} again."), f"{phrase!r} does not match {words!r}"
