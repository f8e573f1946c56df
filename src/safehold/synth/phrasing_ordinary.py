"""Ordinary-conversation phrase banks (greetings, small talk, five everyday kinds).

Why: benign conversations must come in the same phrasing families as grooming ones, or a
model separates the classes by writing style instead of by pattern. Each unit is a short
exchange; "A|" lines belong to the first participant, "B|" lines to the second.
"""

from __future__ import annotations

Unit = tuple[str, ...]

GREETINGS: dict[str, tuple[Unit, ...]] = {
    "formal": (
        ("A|Hello {name}, how are you?", "B|Hello! I am well, thank you. And you?"),
        ("A|Hello again, {name}.", "B|Hi, how are you?"),
        ("A|Hi {name}, are you free for a moment?", "B|Yes, what is it?"),
        ("A|Hi. How are things?", "B|Fine, thank you."),
    ),
    "casual": (
        ("A|hey {name}!", "B|heyy"),
        ("A|hiya", "B|hey what's up"),
        ("A|you about?", "B|yeah what's up"),
        ("A|hey hey", "B|hi!"),
    ),
    "textspeak": (
        ("A|heyy", "B|hey wuu2"),
        ("A|yo", "B|wassup"),
        ("A|u there?", "B|ye"),
        ("A|hiii {name}", "B|hey"),
    ),
    "emoji_light": (
        ("A|Hey {name}! 👋", "B|Heyy 😊"),
        ("A|Hiii 🙂", "B|Hey! 👋"),
        ("A|You around? 👀", "B|Yep! 🙂"),
    ),
    "typo_prone": (
        ("A|hey {name}", "B|hey whats up"),
        ("A|hiya you their?", "B|yeah"),
        ("A|hello hows it going", "B|good thanks"),
    ),
    "terse": (
        ("A|hi", "B|hi"),
        ("A|{name}?", "B|yeah"),
        ("A|there?", "B|yep"),
    ),
}

CLOSINGS: dict[str, tuple[Unit, ...]] = {
    "formal": (
        ("A|I have to go now. Speak soon.", "B|Goodbye, speak soon."),
        ("A|Thank you, speak to you soon.",),
        ("B|I must go and do my homework now.", "A|Of course, good luck."),
    ),
    "casual": (
        ("A|gotta go, talk later", "B|cya"),
        ("A|ok bye!", "B|bye"),
        ("B|gtg, dinner", "A|ok later"),
    ),
    "textspeak": (
        ("A|g2g ttyl", "B|cya"),
        ("A|l8r", "B|cya l8r"),
        ("B|brb tea", "A|k"),
    ),
    "emoji_light": (
        ("A|Gotta go! Talk later 👋", "B|Bye! 😊"),
        ("A|Bye for now 👋", "B|Bye! 🙂"),
        ("B|Dinner time 🍝 brb", "A|Ok 👍"),
    ),
    "typo_prone": (
        ("A|got to go talk later", "B|ok bye"),
        ("A|bye for now", "B|bye"),
        ("B|got to go eat", "A|ok speak later"),
    ),
    "terse": (
        ("A|bye", "B|bye"),
        ("A|later", "B|k"),
        ("B|gtg", "A|ok"),
    ),
}

# Neutral chat either side may start (no {name}: the roles can be swapped).
SMALL_TALK: dict[str, tuple[Unit, ...]] = {
    "formal": (
        ("A|How was your day?", "B|It was fine, thank you. Quite busy.", "A|Busy is good."),
        (
            "A|What are you doing this evening?",
            "B|Probably watching {show}.",
            "A|That sounds nice.",
        ),
        ("A|Did you have a good weekend?", "B|Yes, I went to {place} with {friend}."),
        ("A|Have you eaten yet?", "B|Not yet, we are having {food} later."),
        ("A|Is it raining where you are?", "B|Yes, all day.", "A|Same here, unfortunately."),
        ("A|Are you still playing {game}?", "B|Yes, most evenings.", "A|I should play again soon."),
    ),
    "casual": (
        ("A|hey how was your day", "B|pretty boring tbh", "A|haha same"),
        ("A|what you up to tonight?", "B|probably just watching {show}", "A|nice"),
        ("A|good weekend?", "B|yeah went to {place} with {friend}", "A|sounds fun"),
        ("A|have you eaten?", "B|not yet, {food} later I think"),
        ("A|it's been raining all day here", "B|same, so annoying"),
        ("A|still playing {game}?", "B|yeah every night lol", "A|haha nice"),
    ),
    "textspeak": (
        ("A|hru", "B|gd u", "A|ye not bad"),
        ("A|wyd 2nite", "B|prob watchin {show}", "A|nice"),
        ("A|gd wknd?", "B|ye went {place} w {friend}"),
        ("A|u eaten?", "B|nah {food} l8r"),
        ("A|its rainin so much", "B|ikr"),
        ("A|u still on {game}", "B|ye every nite lol"),
    ),
    "emoji_light": (
        ("A|How was your day? 🙂", "B|Pretty boring 😴", "A|Haha same 😅"),
        ("A|What are you up to tonight? 🌙", "B|Watching {show} 📺", "A|Nice 👍"),
        ("A|Good weekend? ☀️", "B|Yeah! Went to {place} with {friend} 😄"),
        ("A|Have you eaten? 🍽️", "B|Not yet, {food} later 😋"),
        ("A|So much rain today 🌧️", "B|Ugh same ☔"),
        ("A|Still playing {game}? 🎮", "B|Every night 😂"),
    ),
    "typo_prone": (
        ("A|hows your day been", "B|pretty boring honestly", "A|haha same hear"),
        ("A|what are you doing tonite", "B|probaly watching {show}"),
        ("A|did you have a good weekend", "B|yeah went to {place} with {friend}"),
        ("A|have you ate yet", "B|not yet were having {food} later"),
        ("A|its been raining all day hear", "B|same its so anoying"),
        ("A|you still playing {game}", "B|yeah evry night lol"),
    ),
    "terse": (
        ("A|sup", "B|nm"),
        ("A|wyd", "B|nothing", "A|same"),
        ("A|weekend ok?", "B|yeah. {place}"),
        ("A|eaten?", "B|{food} later"),
        ("A|raining", "B|yep"),
        ("A|{game} later?", "B|maybe"),
    ),
}

# Everyday kinds. friends/gaming: peers; family: A parent, B child; school: A teacher,
# B student; shopping: A customer, B support agent.
ORDINARY_BODIES: dict[str, dict[str, tuple[Unit, ...]]] = {
    "friends": {
        "formal": (
            (
                "A|Are you coming to {place} on {day}?",
                "B|Yes, I should be there by {time}.",
                "A|Great, see you then.",
            ),
            (
                "A|Did you finish the {subject} homework?",
                "B|Nearly. The last question is hard.",
                "A|I can send you my notes if you like.",
            ),
            (
                "A|{friend} is having a party on {day}. Are you going?",
                "B|I think so. Are you?",
                "A|Yes, we could go together.",
            ),
            (
                "A|Have you watched {show} yet?",
                "B|Not yet, please do not spoil it.",
                "A|I will not, I promise.",
            ),
            (
                "A|Would you like to come over and play {game} later?",
                "B|I would love to, I will ask first.",
            ),
            ("B|I am so bored today.", "A|Shall we go to {place}?", "B|Good idea."),
        ),
        "casual": (
            (
                "A|you coming to {place} on {day}?",
                "B|yeah should be there around {time}",
                "A|cool see you there",
            ),
            (
                "A|did you do the {subject} homework",
                "B|mostly, last question is impossible",
                "A|I'll send you my answers",
            ),
            (
                "A|{friend}'s party on {day}, you going?",
                "B|think so, you?",
                "A|yeah let's go together",
            ),
            ("A|have you watched {show}", "B|not yet don't spoil it!!", "A|haha I won't"),
            ("A|wanna come round and play {game} later?", "B|yes! I'll ask my {guardian}"),
            ("B|so bored", "A|wanna go to {place}?", "B|yes pls"),
        ),
        "textspeak": (
            ("A|u comin 2 {place} {day}", "B|ye be there bout {time}", "A|k cu there"),
            ("A|did u do {subject} hw", "B|mostly last q is impossible", "A|ill send u mine"),
            ("A|{friend}s party {day} u goin", "B|ye prob u?", "A|ye lets go 2gether"),
            ("A|u watched {show}", "B|not yet dont spoil", "A|lol i wont"),
            ("A|wanna come round n play {game}", "B|ye ill ask my {guardian}"),
            ("B|sooo bored", "A|{place}?", "B|ye"),
        ),
        "emoji_light": (
            (
                "A|Coming to {place} on {day}? 🙂",
                "B|Yes! Around {time} 👍",
                "A|Yay see you there 😄",
            ),
            (
                "A|Did you do the {subject} homework? 📚",
                "B|Mostly 😩 last question is impossible",
                "A|I'll send you my answers 👍",
            ),
            (
                "A|{friend}'s party on {day}! Going? 🎉",
                "B|I think so! You? 😊",
                "A|Yes let's go together 🙌",
            ),
            ("A|Have you watched {show}? 📺", "B|Not yet don't spoil it!! 🙈", "A|Haha I won't 🤐"),
            ("A|Wanna come over and play {game}? 🎮", "B|Yes!! I'll ask my {guardian} 🙂"),
            ("B|Soooo bored 😩", "A|{place}? 🙂", "B|Yes!! 🙌"),
        ),
        "typo_prone": (
            (
                "A|you comming to {place} on {day}",
                "B|yeah should be their about {time}",
                "A|cool see you their",
            ),
            (
                "A|did you do the {subject} homework",
                "B|mostly the last question is imposible",
                "A|ill send you mine",
            ),
            (
                "A|{friend}s party on {day} are you going",
                "B|i think so are you",
                "A|yeah lets go togther",
            ),
            ("A|have you wacthed {show}", "B|not yet dont spoil it", "A|i wont lol"),
            ("A|do you want to come round and play {game}", "B|yeah ill ask my {guardian}"),
            ("B|im so bored", "A|want to go to {place}", "B|yes please"),
        ),
        "terse": (
            ("A|{place} {day}?", "B|yeah. {time}", "A|k"),
            ("A|{subject} hw done?", "B|nearly", "A|sending mine"),
            ("A|{friend}'s party?", "B|going. u?", "A|yep"),
            ("A|seen {show}?", "B|no spoilers"),
            ("A|{game} at mine?", "B|asking {guardian}"),
            ("B|bored", "A|{place}?", "B|ok"),
        ),
    },
    "family": {
        "formal": (
            (
                "A|What time will you be home tonight?",
                "B|Around {time}, I think.",
                "A|Alright. Dinner is {food}.",
            ),
            ("A|Please remember to take your key today.", "B|I have it, do not worry."),
            ("A|Can you pick up some milk on the way home?", "B|Yes, no problem."),
            ("A|{relative} called and asked you to ring back.", "B|I will call after dinner."),
            (
                "A|Have you finished your homework?",
                "B|Almost. Just {subject} left.",
                "A|Good, well done.",
            ),
            (
                "B|Can {friend} come over on {day}?",
                "A|Yes, as long as your room is tidy.",
                "B|Thank you!",
            ),
        ),
        "casual": (
            ("A|what time you home tonight?", "B|about {time}", "A|ok, it's {food} for dinner"),
            ("A|don't forget your key!", "B|got it"),
            ("A|can you grab milk on the way back?", "B|yep"),
            ("A|{relative} rang, call them back when you can", "B|will do after dinner"),
            ("A|homework done?", "B|nearly, just {subject} left", "A|good stuff"),
            ("B|can {friend} come round {day}?", "A|sure if your room's tidy", "B|deal"),
        ),
        "textspeak": (
            ("A|wat time u home", "B|bout {time}", "A|k {food} 4 tea"),
            ("A|dont 4get ur key", "B|got it"),
            ("A|can u get milk on way home", "B|ye"),
            ("A|{relative} rang, call back pls", "B|ok after tea"),
            ("A|hw done?", "B|nearly jus {subject}", "A|gd"),
            ("B|can {friend} come round {day}", "A|ye if ur room is tidy", "B|deal"),
        ),
        "emoji_light": (
            (
                "A|What time are you home? 🏠",
                "B|Around {time} 🙂",
                "A|Ok! It's {food} for dinner 😋",
            ),
            ("A|Don't forget your key! 🔑", "B|Got it 👍"),
            ("A|Can you grab milk on the way home? 🥛", "B|Yep 👍"),
            ("A|{relative} called ☎️ ring them back please", "B|Will do after dinner 🙂"),
            ("A|Homework done? 📚", "B|Nearly! Just {subject} 😩", "A|Good job 👏"),
            (
                "B|Can {friend} come over {day}? 🙏",
                "A|Sure, if your room is tidy 😉",
                "B|Deal!! 🙌",
            ),
        ),
        "typo_prone": (
            ("A|what time will you be home", "B|about {time}", "A|ok were having {food}"),
            ("A|dont forget you're key", "B|got it"),
            ("A|can you get milk on the way home", "B|yep"),
            ("A|{relative} called can you ring them back", "B|will do after diner"),
            ("A|is you're homework done", "B|nearly just {subject} left", "A|good"),
            ("B|can {friend} come over on {day}", "A|yes if you're room is tidy", "B|ok deal"),
        ),
        "terse": (
            ("A|home when?", "B|{time}", "A|ok. {food}"),
            ("A|key?", "B|got it"),
            ("A|milk pls", "B|ok"),
            ("A|call {relative}", "B|later"),
            ("A|homework?", "B|{subject} left", "A|ok"),
            ("B|{friend} over {day}?", "A|if room tidy", "B|ok"),
        ),
    },
    "school": {
        "formal": (
            (
                "A|Hello. A reminder that the {subject} assignment is due on {day}.",
                "B|Thank you, I will hand it in on time.",
            ),
            (
                "B|Could I please have an extension on {task}?",
                "A|You may have until {day}. Let me know if you need help.",
                "B|Thank you.",
            ),
            ("A|Well done on your {subject} test, you improved a lot.", "B|Thank you very much!"),
            (
                "B|I was absent on {day}. What did I miss?",
                "A|We covered {task}. The notes are on the class page.",
            ),
            (
                "A|The {event} forms are due on {day}. Please bring yours signed.",
                "B|I will bring it tomorrow.",
            ),
        ),
        "casual": (
            ("A|Quick reminder: {subject} homework due {day}!", "B|ok thanks"),
            (
                "B|can I get an extension on {task}?",
                "A|Sure, have it in by {day} and shout if you're stuck",
                "B|thanks!",
            ),
            ("A|Nice work on the {subject} test, big improvement", "B|thank you!!"),
            ("B|I missed {day}, what did we do?", "A|We did {task}, notes are on the class page"),
            ("A|Don't forget your form for {event} by {day}", "B|will bring it tomorrow"),
        ),
        "textspeak": (
            ("A|Reminder {subject} hw due {day}", "B|ok thx"),
            (
                "B|can i hav an extension on {task} pls",
                "A|OK, by {day} pls. Msg me if stuck",
                "B|thx",
            ),
            ("A|Gd work on {subject} test, big improvement", "B|ty!!"),
            ("B|missed {day} wat did we do", "A|{task} - notes on class page"),
            ("A|Forms 4 {event} due {day}", "B|ill bring it 2moro"),
        ),
        "emoji_light": (
            ("A|Reminder: {subject} homework due {day} 📚", "B|Thanks! 👍"),
            (
                "B|Could I have an extension on {task}? 🙏",
                "A|Sure, by {day} 🙂 ask if you're stuck",
                "B|Thank you!! 😊",
            ),
            ("A|Great job on the {subject} test ⭐", "B|Thank you!! 😄"),
            (
                "B|I missed {day} 😕 what did we do?",
                "A|We did {task} 📝 notes are on the class page",
            ),
            ("A|{event} forms due {day} ✍️", "B|I'll bring it tomorrow 👍"),
        ),
        "typo_prone": (
            ("A|Reminder that {subject} homework is due {day}", "B|ok thank you"),
            ("B|can i have a extension on {task}", "A|Yes, by {day} please", "B|thankyou"),
            ("A|Well done on the {subject} test", "B|thank you so much"),
            (
                "B|i was off on {day} what did i miss",
                "A|We did {task}, the notes are on the class page",
            ),
            ("A|Please bring your {event} form by {day}", "B|ill bring it tommorow"),
        ),
        "terse": (
            ("A|{subject} due {day}", "B|ok"),
            ("B|extension on {task}?", "A|{day}. ok?", "B|thanks"),
            ("A|good test result", "B|thanks"),
            ("B|missed {day}. what did i miss?", "A|{task}. notes online"),
            ("A|{event} form by {day}", "B|ok"),
        ),
    },
    "gaming": {
        "formal": (
            (
                "A|Would you like to team up for the next round of {game}?",
                "B|Yes, I will join your lobby.",
                "A|Great, invite sent.",
            ),
            ("A|Good game. Your defence was excellent.", "B|Thank you, you played well too."),
            ("B|Which level are you on in {game}?", "A|I am on level 30 now.", "B|Impressive."),
            ("A|Shall we try the new event mode?", "B|Yes, let us try it."),
            ("A|I need one more player for the raid.", "B|I can join in five minutes."),
        ),
        "casual": (
            ("A|wanna duo in {game}?", "B|yeah send invite", "A|sent"),
            ("A|gg, that last round was crazy", "B|haha gg, nice defending"),
            ("B|what level are you on {game}?", "A|30 now", "B|nice"),
            ("A|tried the new event yet?", "B|nah let's try it"),
            ("A|need one more for the raid", "B|I'm in, give me 5 mins"),
        ),
        "textspeak": (
            ("A|duo {game}?", "B|ye send inv", "A|sent"),
            ("A|gg that was mad", "B|gg ur defence was op"),
            ("B|wat lvl u on", "A|30", "B|nice"),
            ("A|tried new event?", "B|nah lets go"),
            ("A|need 1 more 4 raid", "B|im in 5 mins"),
        ),
        "emoji_light": (
            ("A|Duo in {game}? 🎮", "B|Yes! Send invite 👍", "A|Sent ✅"),
            ("A|GG that was crazy 😂", "B|GG! Nice defending 🛡️"),
            ("B|What level are you on? 🤔", "A|30 now 😎", "B|Nice!! 🔥"),
            ("A|Tried the new event? 🎉", "B|Not yet, let's go 🚀"),
            ("A|Need one more for the raid ⚔️", "B|I'm in! 5 mins ⏱️"),
        ),
        "typo_prone": (
            ("A|want to duo in {game}", "B|yeah send a invite", "A|sent"),
            ("A|gg that was crazy", "B|gg nice defending"),
            ("B|what levle are you on", "A|30 now", "B|nice"),
            ("A|have you tryed the new event", "B|no lets try it"),
            ("A|need one more for the raid", "B|im in give me 5 minuts"),
        ),
        "terse": (
            ("A|duo?", "B|inv", "A|sent"),
            ("A|gg", "B|gg"),
            ("B|lvl?", "A|30"),
            ("A|event?", "B|go"),
            ("A|raid, need 1", "B|in"),
        ),
    },
    "shopping": {
        "formal": (
            (
                "A|Hello, my order {order} has not arrived yet.",
                "B|I am sorry to hear that. Let me check the tracking for you.",
                "B|It is with the courier and should arrive on {day}.",
                "A|Thank you for checking.",
            ),
            (
                "A|I would like to return {item}. It is the wrong size.",
                "B|Of course. I have emailed you a returns label.",
                "A|Thank you.",
            ),
            (
                "A|I was charged twice for {item}.",
                "B|Apologies for that. I have refunded the duplicate payment.",
                "A|Thank you for sorting it so quickly.",
            ),
            (
                "A|Is {item} back in stock?",
                "B|It should be back in stock on {day}.",
                "A|Thank you, I will check again then.",
            ),
            (
                "A|Can I use a {amount} gift card on {item}?",
                "B|Yes, you can enter the code at checkout.",
            ),
        ),
        "casual": (
            (
                "A|hi, my order {order} still hasn't come",
                "B|Sorry about that! Checking the tracking now.",
                "B|It's with the courier, due {day}.",
                "A|ok thanks",
            ),
            (
                "A|need to return {item}, wrong size",
                "B|No problem, I've emailed you a returns label.",
                "A|great thanks",
            ),
            (
                "A|got charged twice for {item}??",
                "B|So sorry, I've refunded the extra payment.",
                "A|cheers",
            ),
            (
                "A|is {item} back in stock soon?",
                "B|It's due back on {day}.",
                "A|ok will check then",
            ),
            (
                "A|can I use a {amount} gift card on {item}?",
                "B|Yes, just enter the code at checkout.",
            ),
        ),
        "textspeak": (
            (
                "A|hi order {order} not here yet",
                "B|Sorry about that! Let me check.",
                "B|It's with the courier, due {day}.",
                "A|k thx",
            ),
            ("A|need 2 return {item} wrong size", "B|No problem, returns label emailed.", "A|thx"),
            ("A|charged twice 4 {item}", "B|Apologies, the extra payment is refunded.", "A|ty"),
            ("A|{item} back in stock?", "B|Due back {day}.", "A|k"),
            ("A|can i use {amount} gift card on {item}", "B|Yes, enter the code at checkout."),
        ),
        "emoji_light": (
            (
                "A|Hi! My order {order} hasn't arrived 😕",
                "B|Sorry about that! Checking now 🔍",
                "B|It's with the courier, due {day} 📦",
                "A|Thanks! 🙂",
            ),
            (
                "A|I need to return {item}, wrong size 😅",
                "B|No problem! Returns label emailed 📧",
                "A|Great, thanks 👍",
            ),
            (
                "A|I was charged twice for {item} 😬",
                "B|So sorry! The extra payment is refunded 💳",
                "A|Thank you!! 🙏",
            ),
            ("A|Is {item} back in stock soon? 🤞", "B|Due back on {day} 🙂", "A|Yay 🙌"),
            (
                "A|Can I use a {amount} gift card on {item}? 🎁",
                "B|Yes! Enter the code at checkout 👍",
            ),
        ),
        "typo_prone": (
            (
                "A|hi my order {order} hasnt arived",
                "B|Sorry about that, checking now.",
                "B|It's with the courier, due {day}.",
                "A|ok thanks",
            ),
            (
                "A|i need to retrun {item} its the wrong size",
                "B|No problem, I've emailed a returns label.",
                "A|thankyou",
            ),
            (
                "A|ive been charged twice for {item}",
                "B|Apologies, the duplicate is refunded.",
                "A|thanks for sorting it",
            ),
            ("A|when is {item} back in stock", "B|It's due back on {day}.", "A|ok"),
            ("A|can i use a {amount} gift card on {item}", "B|Yes, enter the code at checkout."),
        ),
        "terse": (
            ("A|order {order} missing", "B|Checking now.", "B|With courier, due {day}.", "A|ok"),
            ("A|return {item}. wrong size", "B|Returns label emailed.", "A|thx"),
            ("A|double charged, {item}", "B|Refunded, sorry.", "A|ok"),
            ("A|{item} restock?", "B|{day}.", "A|ok"),
            ("A|gift card ok for {item}?", "B|Yes, at checkout."),
        ),
    },
}

SHOPPING_CLOSINGS: dict[str, tuple[Unit, ...]] = {
    "formal": (
        ("B|Is there anything else I can help you with today?", "A|No, that is all. Thank you."),
    ),
    "casual": (("B|Anything else I can help with?", "A|nope that's it, thanks"),),
    "textspeak": (("B|Anything else I can help with?", "A|nah ty"),),
    "emoji_light": (("B|Anything else I can help with? 🙂", "A|No that's all, thanks! 👍"),),
    "typo_prone": (("B|Is there anything else I can help with?", "A|no thats all thankyou"),),
    "terse": (("B|Anything else?", "A|no"),),
}
