"""fuelrl.landscape"""
