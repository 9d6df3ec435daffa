"""The words of the scale history: what customers write about, why staff decide, what approvers say."""

SUBJECTS = [
    "Broken kettle", "Parcel never arrived", "Charged twice", "Wrong size delivered", "Late delivery",
    "Damaged in transit", "Missing part", "Subscription cancelled but billed", "Faulty charger",
    "Return label not received", "Refund not received yet", "Item not as described", "Warranty repair",
    "Delivery to the wrong address", "Gift arrived after the birthday", "Coupon not applied",
]  # fmt: skip
RATIONALES = {
    "refund": ["Item arrived damaged; photo attached.", "Parcel lost by the carrier.", "Charged twice for one order.",
               "Product faulty within 30 days.", "Order cancelled before dispatch."],
    "goodwill_credit": ["Long wait on the phone; customer upset.", "Second delivery failure this month.",
                        "Loyal customer, late delivery before a holiday.", "Our mistake in the order."],
    "replacement": ["Arrived broken; customer wants the same item.", "Wrong colour sent.", "Missing part, no spare."],
    "fee_waiver": ["Late fee caused by our billing error.", "Return shipping on a faulty item.",
                   "Restocking fee waived: item unopened."],
    "expedited_shipping": ["Replacement needed before the weekend.", "Gift for a date; first parcel lost.",
                           "Medical device, customer cannot wait."],
    "*": ["Customer's situation justifies it.", "Above and beyond for a long-time customer."],
}  # fmt: skip
WOW_STORIES = [
    "Her parcel with a birthday gift was lost; I sent flowers with the replacement.",
    "He had called four times about the same fault; I sent a voucher and called him back myself.",
    "A wedding order arrived damaged the day before; I had a courier bring a new one that evening.",
    "She is moving abroad and could not wait for the refund; I paid for express shipping of the exchange.",
]
NOTES = ["", "", "Fine, go ahead.", "Approved: good call, you could ask for a higher limit.",
         "Approved; next time offer a replacement first.", "Approved a lower amount: shipping is refunded separately.",
         "OK. Please note the order number in the rationale."]  # fmt: skip
REJECTIONS = ["Outside policy: the item was used.", "Already compensated last month.",
              "Offer a replacement instead.", "Not our fault: carrier claim first."]  # fmt: skip
WITHDRAWALS = ["Customer accepted a replacement instead.", "Resolved otherwise.", "Asked by mistake."]
RESOLUTIONS = ["Refunded and apologised.", "Replacement sent.", "Explained the policy; customer satisfied.",
               "Credit applied to the account.", "Issue fixed on the call."]  # fmt: skip
COMMENTS = {
    5: ["Fast and friendly, thank you!", "Sorted in one call. Impressive.", "Takk fyrir!", "Dziękuję, super obsługa."],
    4: ["Good service, a bit slow.", "Helpful agent.", "Спасибо, всё решили."],
    3: ["OK in the end.", "Took two calls.", "还可以。"],
    2: ["Had to wait days for an answer.", "Only got part of my money back."],
    1: ["Nobody could decide anything.", "Still waiting. Terrible.", "They refused and did not explain why."],
}  # fmt: skip
FOLLOW_UP_REPLIES = ["We are sorry: we refunded the rest of your order.", "We called you and sent a replacement.",
                     "Thank you for telling us: your credit is on its way."]  # fmt: skip
FOLLOW_UP_ACTIONS = ["Called the customer, refunded shipping.", "Coached the agent; sent a replacement.",
                     "Raised the limit for the team; apology sent."]  # fmt: skip
WOULD_HAVE_DONE = ["Refund at once: the customer had the photo ready.", "Give a small credit while they waited.",
                   "Send the replacement today instead of tomorrow.", "Waive the fee: it was our mistake."]  # fmt: skip
FRICTION_ANSWERS = {
    "accept": ["Agreed: I have asked for a higher limit for the team.", "Fair point; the rule changes next month."],
    "explain": ["The cap protects against split refunds; escalate these.", "Fraud risk on this type: keep asking."],
    "pass_up": ["I cannot change this one: passing it to my manager."],
}  # fmt: skip
