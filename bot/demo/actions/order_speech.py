"""What the caller hears about an order: its status, carrier and delivery day.

Dates are said relative to today ("tomorrow", "on Monday", "Friday, May third"),
so the caller never has to work out a calendar date. The order lookup and the
order-number form both speak these sentences.
"""
from __future__ import annotations

from datetime import date

from bot.crm import Order, OrderStatus
from bot.spoken import ordinal_words, speak_digits


def speak_date(day: date, today: date) -> str:
    """Relative words close to today, a weekday within the past week, else "Friday, May third"."""
    delta = (day - today).days
    relative = {-1: "yesterday", 0: "today", 1: "tomorrow"}
    if delta in relative:
        return relative[delta]
    if -7 < delta < 0:
        return day.strftime("%A")
    text = f"{day:%A}, {day:%B} {ordinal_words(day.day)}"
    return text if day.year == today.year else f"{text}, {day.year}"


def on_day(day: date, today: date) -> str:
    """Adverbial form: "yesterday", "on Monday", "on Friday, May third"."""
    spoken = speak_date(day, today)
    return spoken if spoken in ("yesterday", "today", "tomorrow") else f"on {spoken}"


def _arrival(day: date, today: date) -> str:
    if day >= today:
        return f"should arrive {speak_date(day, today)}"
    return f"was due {on_day(day, today)}, so it's running late. I'm sorry about that"


def describe_order(order: Order, today: date) -> str:
    """One spoken sentence with the order's status, carrier and delivery day."""
    number = speak_digits(order.order_number)
    carrier = f" with {order.carrier}" if order.carrier else ""
    if order.status is OrderStatus.OUT_FOR_DELIVERY:
        return f"Your order {number} is out for delivery{carrier} today, and should arrive by the end of the day."
    if order.status is OrderStatus.DELIVERED:
        when = f" {on_day(order.delivery_date, today)}" if order.delivery_date else ""
        return f"Your order {number} was delivered{when}."
    if order.status is OrderStatus.SHIPPED:
        shipped = f" {on_day(order.shipped_on, today)}" if order.shipped_on else ""
        opening = f"Your order {number} shipped{carrier}{shipped}"
    else:
        opening = f"Your order {number} hasn't shipped yet"
    if order.delivery_date is None:
        return f"{opening}."
    return f"{opening}, and {_arrival(order.delivery_date, today)}."


def order_not_found(number: str) -> str:
    return f"Sorry, I couldn't find an order with the number {speak_digits(number)}."
