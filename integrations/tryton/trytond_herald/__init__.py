# trytond's bus on Herald: the bus class (trytond_herald.bus.HeraldBus) and
# the session mirror (the module `herald`, registered in tryton.cfg).
