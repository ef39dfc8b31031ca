"""fuelrl.testing"""
